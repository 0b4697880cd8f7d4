"""Shared building blocks every domain uses: time, model mixins, signals, registries."""
