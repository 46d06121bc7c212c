"""Assay's performance targets, each measured against a baseline in the same run."""
