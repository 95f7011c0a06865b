"""Streamlit widgets, caches and figure builders shared by the pages."""
