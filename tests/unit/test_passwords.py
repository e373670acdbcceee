"""Passwords with the product's own argon2 parameters (the rest of the suite hashes with the cheapest ones,
see ``TEST_ARGON2`` in tests/conftest.py)."""

from argon2 import PasswordHasher

from wbs_engine import crypto


def test_passwords_are_hashed_with_the_products_argon2id_parameters(production_password_hasher):
    stored = crypto.hash_password("rahasia-demo-123")
    assert stored.startswith("$argon2id$") and "m=65536,t=3,p=4" in stored
    assert "rahasia-demo-123" not in stored
    assert crypto.verify_password(stored, "rahasia-demo-123")
    assert not crypto.verify_password(stored, "rahasia-demo-124")
    assert not crypto.verify_password(None, "") and not crypto.verify_password("bukan-hash", "x")
    assert not crypto.password_needs_rehash(stored)


def test_a_weaker_hash_is_accepted_once_and_marked_for_rehashing(production_password_hasher):
    """What the suite's cheap hashes would be in production: valid, but to be replaced at the next login."""
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("rahasia-demo-123")
    assert crypto.verify_password(weak, "rahasia-demo-123")
    assert crypto.password_needs_rehash(weak)
