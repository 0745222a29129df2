"""Follow-up plans (RTL): priorities, actions, realization, photos, progress."""
