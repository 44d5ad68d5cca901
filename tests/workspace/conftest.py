"""Fixtures for the workspace tests (defined in helpers.py, registered here)."""

from tests.workspace.helpers import cleanup_sidecars, repo, repo_dir

__all__ = ["cleanup_sidecars", "repo", "repo_dir"]
