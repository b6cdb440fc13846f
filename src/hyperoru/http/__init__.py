"""HTTP plumbing shared by every router: dependencies, middleware, route policy."""
