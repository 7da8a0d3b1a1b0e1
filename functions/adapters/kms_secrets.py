"""Webhook signing secrets sealed with KMS (the template's ``WebhookSecretsKey``).

Each secret is encrypted with the key and an encryption context naming its organisation and
webhook (``functions.domain.webhooks.seal_context``): a sealed secret copied to another webhook's
item does not open, and the functions' IAM policies allow the key only with that context's
``purpose``. Plaintext secrets are never logged.
"""

from __future__ import annotations

from typing import Any


class KmsSecretBox:
    def __init__(self, client: Any, key_id: str) -> None:
        self._kms = client
        self._key_id = key_id

    def seal(self, secret: bytes, *, context: dict[str, str]) -> bytes:
        response = self._kms.encrypt(KeyId=self._key_id, Plaintext=secret, EncryptionContext=context)
        return bytes(response["CiphertextBlob"])

    def open(self, sealed: bytes, *, context: dict[str, str]) -> bytes:
        # The key is named too, so a ciphertext sealed under any other key is refused.
        response = self._kms.decrypt(CiphertextBlob=sealed, EncryptionContext=context, KeyId=self._key_id)
        return bytes(response["Plaintext"])
