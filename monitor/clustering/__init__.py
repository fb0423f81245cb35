"""Clustering: fold source items into stories (`Trend`s).

The same story reaches us from several sources with different wording (a Google Trends query
"sinner", three RSS headlines, a Wikipedia article, a GDELT article). `Clusterer.ingest` folds
them into ONE `Trend`, so the scorer and the alerts see one story with its corroboration
instead of six.

Two signals, because a sentence embedding alone loves shared templates ("X vince a Torino"):

* semantic: cosine of sentence vectors, from a FAISS index over the member texts (titles + a
  few headlines) of recent trends (`state`);
* lexical: content lemmas and named phrases (`analysis`). Two headlines whose leading subjects
  differ never merge, whatever the cosine.

The decision itself is the pure function `match_score` (`policy`, thresholds in
`ClusterConfig`); `momentum` measures how a trend moves over time; `title` picks the display
title (the clearest headline) every edge shows.
"""

from monitor.clustering.analysis import TextAnalyser, TextInfo, canonical_text
from monitor.clustering.momentum import TrafficHistory, momentum
from monitor.clustering.policy import ClusterConfig, jaccard, match_score, subject_conflict
from monitor.clustering.state import RESTORE_LIMIT, Clusterer, trend_id_for
from monitor.clustering.title import display_title, is_query_like

__all__ = [
    "RESTORE_LIMIT",
    "ClusterConfig",
    "Clusterer",
    "TextAnalyser",
    "TextInfo",
    "TrafficHistory",
    "canonical_text",
    "display_title",
    "is_query_like",
    "jaccard",
    "match_score",
    "momentum",
    "subject_conflict",
    "trend_id_for",
]
