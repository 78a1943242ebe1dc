"""Pure verdicts: data in, verdict out. No network, no store, no clock."""
