"""Serializers of the API: output shapes, and the input of each action (validated here, applied by a
service)."""
