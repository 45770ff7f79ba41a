"""Deploy the pipelines named in Pulumi config (``glacier:pipelines``) with Glacier.

    pulumi config set --path 'glacier:pipelines[0]' pipelines.py
    pulumi preview

Each pipeline becomes one ``glacier:aws:PipelineDeployment`` component, the managed
buckets they use one ``glacier:aws:DataBuckets`` component, and the artifacts bucket and
Lambda layers one ``glacier:aws:Artifacts`` component per region; each pipeline's state machine
ARN, bucket names, function and job names are the stack's outputs (one object per pipeline).
``glacier init`` and ``run(mode="generate")`` copy this file into the projects they write.
"""

from __future__ import annotations

import pulumi

from glacier import load_pipelines
from glacier.deploy.program import declare, read_config

for _pipeline, _outputs in declare(read_config(), load_pipelines).items():
    pulumi.export(_pipeline, _outputs)
