# SPDX-License-Identifier: GPL-2.0-only
"""Helpers of scripts/eval (detection evaluation harness); python3 stdlib only."""
