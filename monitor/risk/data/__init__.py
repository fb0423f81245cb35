"""Data files of the risk gate (lexicons, calendar, prototypes, mainstream outlets): a package so wheels ship them."""
