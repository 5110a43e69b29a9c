/// Strata's version, printed by `strata --version` and recorded in run manifests.
public let strataVersion = "0.1.0"
