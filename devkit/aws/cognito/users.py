"""Users of the local stack's user pool: signed up and signed in as a client of the API would be."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

LOCAL_PASSWORD = "Local-password-1"  # noqa: S105 (the local stack's users only, printed in its banner)


def id_token(
    cognito: "CognitoIdentityProviderClient",
    stack_name: str,
    user: str,
    password: str = LOCAL_PASSWORD,
    pool: str | None = None,
) -> str:
    """An ID token for ``user`` from the stack's public app client, signing them up first if needed.

    ``pool`` is the pool's id where the caller knows it (an endpoint may hold an earlier stack's
    pool of the same name); otherwise the pool is found by name. Signing up is confirmed with the
    admin API, which stands for the code Cognito would email.
    """
    if pool is None:
        pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
        pool = next(p["Id"] for p in pools if p["Name"] == f"{stack_name}-users")
    clients = cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]
    client = next(c["ClientId"] for c in clients if c["ClientName"] == f"{stack_name}-public")
    try:
        cognito.sign_up(
            ClientId=client,
            Username=user,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": f"{user}@example.com"}],
        )
        cognito.admin_confirm_sign_up(UserPoolId=pool, Username=user)
    except cognito.exceptions.UsernameExistsException:
        pass
    signed_in = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password},
    )
    return signed_in["AuthenticationResult"]["IdToken"]
