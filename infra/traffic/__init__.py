"""Realistic tool traffic: rows in the tool databases, agent results on NATS, MeshCentral envelopes."""
