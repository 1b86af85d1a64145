"""Before-and-after photos: checked, cleaned and stored (services), and shown (views)."""
