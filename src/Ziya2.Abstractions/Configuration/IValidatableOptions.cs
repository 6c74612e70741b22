namespace Ziya2.Configuration;

/// <summary>
/// Options that check their own values after binding. Every message returned is reported with the
/// section's path, together with all other configuration errors, before anything runs.
/// </summary>
public interface IValidatableOptions
{
    /// <summary>Returns one message per problem; empty when the options are valid.</summary>
    IEnumerable<string> Validate();
}
