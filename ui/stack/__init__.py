"""The Layer stack page: its state, layer editors, plan and maps."""
