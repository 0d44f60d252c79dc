"""Conformance checks for Kubernetes pods with hostNetwork: true."""

__version__ = "0.1.0"
