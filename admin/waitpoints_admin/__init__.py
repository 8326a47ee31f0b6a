"""Administration of a deployment's keys, for an operator with AWS credentials (or the running local stack).

- `api_keys`: the secret API keys (`make key`, `make keys`, `make revoke-key`, `waitpoints keys create`).
- `signing_keys`: the callback/JWT signing keys (`make rotate-signing-key`, `make retire-signing-key`).
- `stacks`: where a command acts: the local stack (through its local.env) or a deployed stack (`--stack`).

Not deployed and not part of the SDK: run it from the repository (`make ...`, or `python -m waitpoints_admin.<module>`
with `admin/` on the path, which the Makefile and pytest set up).
"""
