"""The generation engine's parts; `core.generator.Generator` puts them together (see its docstring).

job_state  what one run keeps in memory, and the limits that stop a job
resume     loading a job's stored rows into that state (a re-run resumes)
requests   the request loop: plan a batch, ask the model, parse, verify, hand on to acceptance
acceptance validate, quota, dedupe and accept each row; when a job collapses, say why
writer     group commits of the rows in a worker thread; the job's start and finish
progress   the progress callback, throttled
"""
