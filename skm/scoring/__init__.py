"""Exact IKM scoring, sample size, period results and analytics."""
