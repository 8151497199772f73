"""The model card's measures over model replies (`python -m analysis auto`)."""
