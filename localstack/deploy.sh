#!/usr/bin/env bash
# Deploy template.yaml to a running LocalStack (docker compose -f localstack/docker-compose.yml up -d).
# Needs Docker (LocalStack runs Lambda in containers) and aws-sam-cli-local (`pip install aws-sam-cli-local`
# into .venv-sam). The same template and code as AWS; only the endpoint differs.
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
STACK="${STACK:-cvat-localstack}"
.venv-sam/bin/samlocal build
.venv-sam/bin/samlocal deploy --stack-name "$STACK" --resolve-s3 --capabilities CAPABILITY_IAM --no-confirm-changeset
export AWS_ENDPOINT_URL=http://127.0.0.1:4566
.venv/bin/cvat-serverless migrate --stack "$STACK"
.venv/bin/cvat-serverless health --stack "$STACK" || true
