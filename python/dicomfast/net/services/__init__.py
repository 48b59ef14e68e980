"""DIMSE-C services: verification (C-ECHO) and storage (C-STORE), SCU and SCP."""
