"""Explanations: video Grad-CAM and learned temporal masks."""
