"""Printed and exported output: report data, PDF rendering, Excel, background jobs."""
