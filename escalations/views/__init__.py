"""The pages. Views are thin: read through ``escalations.selectors``, validate with ``escalations.forms``,
write through ``escalations.services``, render ``templates/escalations/``."""
