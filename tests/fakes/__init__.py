"""Fakes of other systems at the network edge, served over real HTTP on loopback."""
