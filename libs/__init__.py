"""Pure libraries: no Prefect, no MLflow. Data and typed specs in, values out."""
