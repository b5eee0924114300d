"""Design of experiments: factor spaces, designs (pyDOE) and their analysis (statsmodels).

Pure library: no Prefect, no MLflow. A sweep flow validates a `FactorSpace`
and a `DesignSpec`, calls `generate_design`, applies each point to a training
config with `apply_point`, and analyses the responses with `analyse` (a
`DoeAnalysis`: alias chains, effects, ANOVA or Lenth's method, pure error,
lack of fit, canonical analysis). A study's stages end with `recommend` (the
best supported setting with a prediction interval, checked by
`confirmation_verdict`), move along `steepest_ascent_path`, or propose runs
by expected improvement from a Gaussian process (`propose_gp`).
"""

from libs.doe.aliasing import AliasChain, AliasStructure, alias_structure, factor_letters
from libs.doe.analysis import anova_table, interaction_effects, main_effects
from libs.doe.anova import AnovaResult
from libs.doe.canonical import Canonical
from libs.doe.config import apply_point
from libs.doe.designs import generate_design
from libs.doe.dsd import DsdSelection, select_dsd_model
from libs.doe.evaluate import DesignEvaluation, evaluate_design
from libs.doe.gp import GpProposal, propose_gp
from libs.doe.lenth import Lenth, lenth
from libs.doe.limits import Limits, hard_limits
from libs.doe.matrices import coded_matrix, design_size
from libs.doe.path import SteepestPath, steepest_ascent_path
from libs.doe.recommend import Recommendation, confirmation_verdict, recommend
from libs.doe.result import DoeAnalysis
from libs.doe.runs import Design
from libs.doe.space import (
    CategoricalFactor,
    ContinuousFactor,
    Factor,
    FactorSpace,
    IntegerFactor,
)
from libs.doe.specs import (
    AugmentOptimal,
    AugmentToCCD,
    BoxBehnken,
    CentralComposite,
    DefinitiveScreening,
    DesignSpec,
    FoldOver,
    FractionalFactorial,
    FullFactorial,
    LatinHypercube,
    Optimal,
    PlackettBurman,
)
from libs.doe.study import analyse
from libs.doe.surface import ResponseSurface, response_surface

__all__ = [
    "AliasChain",
    "AliasStructure",
    "AnovaResult",
    "AugmentOptimal",
    "AugmentToCCD",
    "BoxBehnken",
    "Canonical",
    "CategoricalFactor",
    "CentralComposite",
    "ContinuousFactor",
    "DefinitiveScreening",
    "Design",
    "DesignEvaluation",
    "DesignSpec",
    "DoeAnalysis",
    "DsdSelection",
    "Factor",
    "FactorSpace",
    "FoldOver",
    "FractionalFactorial",
    "FullFactorial",
    "GpProposal",
    "IntegerFactor",
    "LatinHypercube",
    "Lenth",
    "Limits",
    "Optimal",
    "PlackettBurman",
    "Recommendation",
    "ResponseSurface",
    "SteepestPath",
    "alias_structure",
    "analyse",
    "anova_table",
    "apply_point",
    "coded_matrix",
    "confirmation_verdict",
    "design_size",
    "evaluate_design",
    "factor_letters",
    "generate_design",
    "hard_limits",
    "interaction_effects",
    "lenth",
    "main_effects",
    "propose_gp",
    "recommend",
    "response_surface",
    "select_dsd_model",
    "steepest_ascent_path",
]
