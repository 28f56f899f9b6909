//! Ferry: planning what to mirror (additional and blocked images; release, operator and helm planners).
