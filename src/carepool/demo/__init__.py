"""The demonstration: the Greater Manchester model, its allocation and a year of its pooled fund."""
