# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local stand-in for the Huawei Cloud DMS background-task API and the two IAM calls the collection makes.

tests/emulator/dms_emulator.py starts it; docs/emulator.md describes scenarios, faults, admin endpoints and
the request log. The modules, in the order a request meets them:

- server: the HTTP server, its /_emulator/ admin endpoints and the command line
- emulator: one request in, one reply out (routing, authentication, faults, answer, log)
- routing: which call a method and path are
- messages: requests and replies as the modules pass them around
- iam: authentication (signatures, tokens, lockout) and the IAM answers
- signature: the SDK-HMAC-SHA256 check, written apart from the collection's signer
- faults: fault rules
- dms_api: the answers of the read calls (the four background-task calls, the instance, its configuration)
- write_calls: the answers of the write calls that start tasks (configuration change, resize, restart)
- scenario: instances, tasks and their timelines, and the scenario's options
- configs: a Kafka instance's configuration parameters, and the changes that apply when their task succeeds
- clock: the scenario clocks and the API's time formats
- request_log: the record of every API request
- certificates: the throw-away CA and server certificate behind --https
"""
