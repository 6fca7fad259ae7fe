# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the connection options. Generated from plugins/module_utils/options.py by
tests/tooling/render_doc_fragment.py: edit the table, not this file."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  access_key:
    description:
      - Access key ID (AK) used to sign requests. Goes with O(secret_key); excludes O(auth_token).
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_AK), E(HW_ACCESS_KEY),
        E(ANSIBLE_HWC_ACCESS_KEY).'
    type: str
    aliases:
      - ak
  secret_key:
    description:
      - Secret access key (SK) used to sign requests. Never logged or returned.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_SK), E(HW_SECRET_KEY),
        E(ANSIBLE_HWC_SECRET_KEY).'
    type: str
    aliases:
      - sk
  security_token:
    description:
      - Security token of temporary AK/SK credentials, sent as C(X-Security-Token) and signed.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_SECURITY_TOKEN),
        E(HW_SECURITY_TOKEN).'
    type: str
  auth_token:
    description:
      - IAM token sent as C(X-Auth-Token) instead of signing with AK/SK.
      - Mutually exclusive with O(access_key), O(secret_key) and O(security_token).
      - 'If not set, the first of these environment variables that is set is used: E(HW_AUTH_TOKEN).'
    type: str
  region:
    description:
      - Region of the instance, for example V(ap-southeast-1).
      - Builds the default endpoints and finds the project ID when O(project_id) is not given.
      - 'If not set, the first of these environment variables that is set is used: E(HW_REGION_NAME), E(ANSIBLE_HWC_REGION).'
    type: str
  project_id:
    description:
      - Project ID. When not given it is looked up once from O(region) through IAM.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_PROJECT_ID),
        E(HW_PROJECT_ID), E(ANSIBLE_HWC_PROJECT_ID).'
    type: str
  cloud:
    description:
      - Domain of the cloud the default endpoints are built on.
      - Defaults to V(myhuaweicloud.com), or V(myhuaweicloud.eu) in region V(eu-west-101).
      - 'If not set, the first of these environment variables that is set is used: E(HW_CLOUD).'
    type: str
  endpoint:
    description:
      - Base URL of the DMS API, overriding C(https://dms.{region}.{cloud}).
      - For another cloud on the same stack, a proxy, or the bundled emulator.
      - 'If not set, the first of these environment variables that is set is used: E(HW_DMS_ENDPOINT).'
    type: str
  iam_endpoint:
    description:
      - Base URL of IAM, overriding C(https://iam.{region}.{cloud}). Used only to find the project ID.
      - As in the official SDK, Huawei Cloud regions without an IAM endpoint of their own (V(af-north-1), V(ap-southeast-5),
        V(cn-north-11), V(cn-south-4), V(cn-southwest-3), V(ru-northwest-2)) default to the global C(https://iam.myhuaweicloud.com)
        instead; with another O(cloud) the regional form applies.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_IAM_ENDPOINT).'
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the endpoints. Only turn this off against a test server.
      - 'If not set, the first of these environment variables that is set is used: E(HW_VALIDATE_CERTS).'
    type: bool
    default: true
  ca_path:
    description:
      - File of CA certificates (PEM) to verify the endpoints with, instead of the system's.
      - 'If not set, the first of these environment variables that is set is used: E(HW_CA_PATH).'
    type: path
  request_timeout:
    description:
      - Seconds to wait for each HTTP response.
      - A number of seconds greater than 0 and at most 600.
    type: float
    default: 30
  max_retries:
    description:
      - How many times a request is retried after a throttling (429), server error (500, 502, 503, 504), dropped
        connection, timeout or unreadable answer, with exponential backoff and jitter.
      - 'Authentication failures are never retried: repeated failed signatures lock the access key.'
      - An integer from 0 to 10.
      - 'If not set, the first of these environment variables that is set is used: E(HW_MAX_RETRIES).'
    type: int
    default: 5
"""
