"""The Chair's review: the dashboard of a term, the handover pack for the incoming Chair,
and the snapshots of follow-up taken at Senior Officials' Meetings."""
