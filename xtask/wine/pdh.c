/* Stand-in for Wine's pdh.dll: every call fails politely (PDH_NOT_IMPLEMENTED). */
#include <windows.h>
#define PDH_NOT_IMPLEMENTED ((LONG)0xC0000BD3L)
#define STUB(name) LONG WINAPI name(void) { return PDH_NOT_IMPLEMENTED; }
STUB(PdhAddEnglishCounterW)
STUB(PdhCloseQuery)
STUB(PdhCollectQueryData)
STUB(PdhCollectQueryDataEx)
STUB(PdhEnumObjectsW)
STUB(PdhGetFormattedCounterValue)
STUB(PdhOpenQueryW)
STUB(PdhRemoveCounter)
