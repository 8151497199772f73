"""The local review page (`python -m humaneval.crowd review serve`): a task's workers, their work as they saw it
and the analysis's flags, with approve / reject / bonus / soft-block / block done once and audited."""
