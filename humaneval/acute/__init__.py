"""ACUTE-Eval: pairings from chat logs, question presets, onboarding pairs, and (elsewhere in this
package) the Mephisto blueprint that serves them.

Importing this package is cheap on purpose: the data modules (`pairings`, `pairings_validation`,
`questions`, `onboarding`) never import Mephisto, so they run anywhere the logs are.
"""
