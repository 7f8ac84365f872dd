"""The local AWS control plane beside moto: metrics, alarm evaluation, Lambda versions and aliases,
CodeDeploy's hook status call. Pure logic on an injected clock; HTTP stays at the edges."""
