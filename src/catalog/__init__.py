"""Product catalog: the source of truth for merchants' products and their channel listings."""
