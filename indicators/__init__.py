"""What is measured and what counts as a problem: portfolios, agencies, indicators and their measurements,
threshold rules, check runs and imports. This app never imports ``escalations``."""
