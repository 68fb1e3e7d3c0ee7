"""Notebook 06 (what the CNN sees): feature maps, kernels, occlusion and saliency computed, and their pictures."""
