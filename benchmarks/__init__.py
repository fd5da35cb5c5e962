"""Speed measurements, each against its baseline, reported as ratios."""
