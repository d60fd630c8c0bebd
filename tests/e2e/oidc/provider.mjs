// A real OpenID Connect provider on localhost for the sign-in browser tests: panva's oidc-provider
// (the certified Node.js implementation) with its development login form, where any address signs in.
// Usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri, redirectUri.replace("/oauth2callback", "/")],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_post",
  }],
  // the address typed into the login form is the account, and its e-mail claim; an address starting
  // "unverified" is sent with email_verified false, as a self-sign-up provider sends an unconfirmed one
  async findAccount(ctx, id) {
    const verified = !id.startsWith("unverified");
    return { accountId: id, async claims() { return { sub: id, email: id, email_verified: verified }; } };
  },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  scopes: ["openid", "email", "profile"],
  cookies: { keys: ["test-only-cookie-key"] },
  features: { devInteractions: { enabled: true } },
  // the claims in the ID token itself, as Entra ID puts e-mail there: Streamlit reads the ID token
  conformIdTokenClaims: false,
  // consent is asked once per account and client: accepted by the tests' browser
  pkce: { required: () => false },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => console.log(`oidc-provider listening on ${issuer}`));
