"""Model layer: Blender generators, ParlAI checkpoint import, safety checks, and the batching server."""
