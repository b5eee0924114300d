"""Config models, plans and checks of the commands: no Prefect, no MLflow.

`train` (`TrainConfig`), `sweep` (`SweepConfig` and the sweep's plan),
`sweep_checks` (what a sweep config can be checked for before any data),
`stages` (the next stage of a study, planned from an earlier sweep) and
`predict` (`PredictConfig`). The command lines validate here, before any flow
run or MLflow run exists; the flows in `flows.runs` take the validated objects.
"""
