//! ecr-refresher: turns AWS credentials into a fresh `regcred-<name>` Secret.
