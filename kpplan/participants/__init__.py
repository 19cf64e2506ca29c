"""Invitations, delegations and attendance of an activity.

The secretariat draws up an activity's invitation list (states through their focal points,
and organisations), sends it through the reminders' outbox, confirms the delegates the
focal points nominate, and ticks attendance; the activity's figures then come from the
list. Delegates are people, not accounts: only the secretariat and their own state's focal
points see them, and their details are erased after a retention period (``retention``).
"""
