"""CloudWatch: metrics kept as CloudWatch keeps them, metric math, alarm evaluation, EMF."""
