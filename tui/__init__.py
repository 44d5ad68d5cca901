"""Textual dashboard for mpac-bridge."""
