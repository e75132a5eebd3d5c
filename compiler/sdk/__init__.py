"""The AI-SPRINT SDK that component sources import (installed as the package ``aisprint``).

Component code written for AI-SPRINT does ``from aisprint.annotations import exec_time``; this
package keeps that working. The decorators are read statically by the compiler (they are never
imported at build time); at run time they are light wrappers (see ``annotations``).
"""
