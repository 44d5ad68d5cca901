def login(user: str, password: str) -> bool:
    return bool(user and password)
